# An endpoint is imported by its id.
terraform import planetscale_privatelink_endpoint.db vpce-0123456789abcdef0
