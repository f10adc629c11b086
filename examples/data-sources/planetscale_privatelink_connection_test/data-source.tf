# Open a connection to the database through the endpoint, the way the
# application's driver begins one: resolve the Private Host, connect on 5432
# and 6432, ask for TLS and verify the certificate. No credentials are sent.
# The test runs where Terraform runs: from a pipeline runner inside the VPC it
# proves the application's own path. Failures are warnings that say what to fix.
data "planetscale_privatelink_connection_test" "db" {
  host   = "abc123.private-pg.psdb.cloud" # the branch's Private Host
  vpc_id = "vpc-0123456789abcdef0"        # its addresses must be in this VPC

  # Ask the VPC's resolver (the VPC CIDR base + 2) instead of this machine's.
  # resolver = "10.0.0.2"
}

# A check block: when the database cannot be reached, plan and apply end with
# a warning listing each address and port and what went wrong. (Declared
# outside the block, the data source is read once per plan; nested inside, it
# would be read again during every apply, and no plan would be empty.)
check "database_connection" {
  assert {
    condition = data.planetscale_privatelink_connection_test.db.ok
    error_message = join("\n", [
      for r in data.planetscale_privatelink_connection_test.db.results :
      "${coalesce(r.address, "-")}:${r.port}: ${r.error}" if r.error != null
    ])
  }
}

# Or fail a pipeline stage outright when the database cannot be reached.
data "planetscale_privatelink_connection_test" "gate" {
  host          = "abc123.private-pg.psdb.cloud"
  timeout       = "10s"
  fail_on_error = true
}

output "database_latency_ms" {
  value = {
    for r in data.planetscale_privatelink_connection_test.gate.results : "${r.address}:${r.port}" => r.latency_ms
  }
}
