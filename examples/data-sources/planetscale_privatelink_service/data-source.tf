# Look a branch's Private Service Name and Private Host up through the
# PlanetScale API. Needs a service token with read_branch access on the
# database: service_token_id and service_token in the provider block, or
# PLANETSCALE_SERVICE_TOKEN_ID and PLANETSCALE_SERVICE_TOKEN in the environment.
data "planetscale_privatelink_service" "db" {
  organization = "acme"
  database     = "app-db"
  branch       = "main"
}

# Or describe a service whose name was copied from the dashboard (database,
# Settings, Roles): no PlanetScale token needed.
data "planetscale_privatelink_service" "copied" {
  service_name = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
}

resource "planetscale_privatelink_endpoint" "db" {
  service_name       = data.planetscale_privatelink_service.db.service_name
  vpc_id             = "vpc-0123456789abcdef0"
  subnet_ids         = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  security_group_ids = ["sg-0123456789abcdef0"]
}

# The host to put in the application's connection strings.
output "database_host" {
  value = data.planetscale_privatelink_service.db.private_host
}

# Zone names differ between AWS accounts; zone ids do not.
output "service_zones" {
  value = zipmap(
    data.planetscale_privatelink_service.copied.availability_zones,
    data.planetscale_privatelink_service.copied.availability_zone_ids,
  )
}

# The AWS account that owns the service (PlanetScale's).
output "service_owner" {
  value = data.planetscale_privatelink_service.copied.owner
}
