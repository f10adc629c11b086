# Lets PostgreSQL (5432) and PSBouncer (6432) in to the endpoint from the
# application hosts' security group; no egress.
resource "planetscale_privatelink_security_group" "db" {
  vpc_id                     = "vpc-0123456789abcdef0"
  name_prefix                = "planetscale-"
  allowed_security_group_ids = ["sg-0123456789abcdef0"]

  tags = {
    Name = "planetscale-privatelink"
  }
}

# Or by CIDR: chosen subnets, or the whole VPC.
resource "planetscale_privatelink_security_group" "by_cidr" {
  vpc_id              = "vpc-0123456789abcdef0"
  allowed_cidr_blocks = ["10.0.1.0/24", "10.0.2.0/24"]
  allow_vpc_cidr      = false
  ports               = [5432, 6432]
}
