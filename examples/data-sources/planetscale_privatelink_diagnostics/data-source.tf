# The PrivateLink guide's troubleshooting steps, run on every plan: endpoint
# status, security groups both ways, network ACLs of the endpoint's subnets and
# of the application's, the VPC's DNS settings, availability zones, and whether
# the Private Host resolves into the VPC; with connection_test, a connection to
# it. The application is judged by its hosts' own addresses (the network
# interfaces in its security groups), so least-privilege rules and network ACLs
# pass.
data "planetscale_privatelink_diagnostics" "db" {
  endpoint_id               = "vpce-0123456789abcdef0"
  client_security_group_ids = ["sg-0123456789abcdef0"]     # the application hosts' groups
  client_subnet_ids         = ["subnet-0a1b2c3d4e5f60718"] # and their subnets
  private_host              = "abc123.private-pg.psdb.cloud"

  # Run from inside the VPC, ask its own resolver (the VPC CIDR base + 2);
  # by default the machine's resolver from /etc/resolv.conf is asked.
  # dns_server = "10.0.0.2:53"

  # Also connect to the Private Host on each port (SSLRequest and a verified
  # TLS handshake, no credentials): one `connection` check per port. It proves
  # the application's path when Terraform runs inside the VPC.
  connection_test = true
}

# A check block: when the connection would not work, terraform plan and apply
# end with a warning listing what to fix.
check "privatelink" {
  assert {
    condition = data.planetscale_privatelink_diagnostics.db.healthy
    error_message = join("\n", [
      for c in data.planetscale_privatelink_diagnostics.db.checks :
      "${c.name}: ${c.detail}" if c.status == "fail"
    ])
  }
}

output "privatelink_checks" {
  value = {
    for c in data.planetscale_privatelink_diagnostics.db.checks : c.name => c.status
  }
}
