# A security group is imported by its id.
terraform import planetscale_privatelink_security_group.db sg-0123456789abcdef0
