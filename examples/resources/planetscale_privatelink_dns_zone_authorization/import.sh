# An authorization is imported by the zone's id and the VPC's, joined by a
# colon.
terraform import planetscale_privatelink_dns_zone_authorization.spoke Z0123456789ABCDEFGHIJ:vpc-0000000000000000e
