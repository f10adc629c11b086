# A zone is imported by its Route 53 hosted zone id. Its associations are
# read; the first apply points its alias record at the configured endpoint.
terraform import planetscale_privatelink_dns_zone.shared Z0123456789ABCDEFGHIJ
