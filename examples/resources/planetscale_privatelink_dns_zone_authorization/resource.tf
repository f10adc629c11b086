# A spoke VPC in another AWS account resolves the Private Host through the
# hub account's zone: the hub account authorizes the association, and the
# spoke account makes it with its own credentials (hashicorp/aws, under a
# provider alias). While the authorization exists, the zone leaves that
# association alone; vpc_ids lists the hub account's VPCs only.
terraform {
  required_providers {
    planetscale = {
      source = "privatelink/planetscale"
    }
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "planetscale" {
  region = "us-east-1" # the hub account's credentials
}

provider "aws" {
  alias  = "spoke"
  region = "us-east-1"
  assume_role {
    role_arn = "arn:aws:iam::210987654321:role/network-admin" # the spoke account
  }
}

resource "planetscale_privatelink_dns_zone" "shared" {
  private_host = "abc123.private-us-east-1.psdb.cloud"
  endpoint_id  = "vpce-0123456789abcdef0" # the hub's endpoint, private DNS off
  vpc_ids      = ["vpc-0000000000000000a"]
}

resource "planetscale_privatelink_dns_zone_authorization" "spoke" {
  zone_id = planetscale_privatelink_dns_zone.shared.zone_id
  vpc_id  = "vpc-0000000000000000e" # the spoke account's VPC
}

resource "aws_route53_zone_association" "spoke" {
  provider = aws.spoke
  zone_id  = planetscale_privatelink_dns_zone_authorization.spoke.zone_id
  vpc_id   = planetscale_privatelink_dns_zone_authorization.spoke.vpc_id
}
