# Reachability Analyzer on the path from an application host to the endpoint,
# over TCP 5432. A new analysis runs when the endpoint's security group rules
# change (each analysis is billed by AWS); with fail_on_unreachable, an
# analysis that finds no path stops the apply with AWS's explanations.
resource "planetscale_privatelink_reachability_analysis" "app_to_db" {
  source      = "eni-0123456789abcdef0" # the application's network interface, or an instance id
  endpoint_id = planetscale_privatelink_endpoint.db.id
  port        = 5432

  triggers = {
    ingress = join(",", planetscale_privatelink_security_group.db.allowed_security_group_ids)
  }

  fail_on_unreachable = true
}

output "path_found" {
  value = planetscale_privatelink_reachability_analysis.app_to_db.path_found
}

resource "planetscale_privatelink_endpoint" "db" {
  service_name       = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
  vpc_id             = "vpc-0123456789abcdef0"
  subnet_ids         = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  security_group_ids = [planetscale_privatelink_security_group.db.id]
}

resource "planetscale_privatelink_security_group" "db" {
  vpc_id                     = "vpc-0123456789abcdef0"
  allowed_security_group_ids = ["sg-0123456789abcdef0"]
}
