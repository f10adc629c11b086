# One endpoint in a hub VPC, shared with spoke VPCs (peered with the hub,
# or attached to the same transit gateway) through a private hosted zone
# for the Private Host. The endpoint's private DNS is off: the zone answers
# for the Private Host in the hub as well as in the spokes.
resource "planetscale_privatelink_endpoint" "hub" {
  service_name        = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
  vpc_id              = "vpc-0000000000000000a" # the hub
  subnet_ids          = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  security_group_ids  = ["sg-0123456789abcdef0"] # lets the spokes' CIDR blocks in on 5432
  private_dns_enabled = false
}

resource "planetscale_privatelink_dns_zone" "shared" {
  private_host = "abc123.private-us-east-1.psdb.cloud" # the branch's Private Host
  endpoint_id  = planetscale_privatelink_endpoint.hub.id

  vpc_ids = [
    "vpc-0000000000000000a", # the hub
    "vpc-0000000000000000b", # spokes
    "vpc-0000000000000000c",
  ]

  # A spoke in another region of the same account.
  vpc {
    id     = "vpc-0000000000000000d"
    region = "us-west-2"
  }
}

output "zone_id" {
  value = planetscale_privatelink_dns_zone.shared.zone_id
}
