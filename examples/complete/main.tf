# A private connection from an application VPC to a PlanetScale for Postgres
# database branch over AWS PrivateLink: the network (or an existing one), a
# security group for the endpoint that lets the application in, and the
# interface endpoint to the branch's Private Service Name.

terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    planetscale = {
      source = "privatelink/planetscale"
    }
  }
}

provider "aws" {
  region = var.region
}

provider "planetscale" {
  region = var.region

  default_tags {
    tags = {
      ManagedBy = "terraform"
    }
  }
}

# The application network. Set vpc_id and subnet_ids to use an existing one.
resource "aws_vpc" "app" {
  count = var.vpc_id == null ? 1 : 0

  cidr_block = var.vpc_cidr_block
  # Private DNS names of endpoints need both.
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = "${var.name}-app"
  }
}

resource "aws_subnet" "app" {
  count = var.vpc_id == null ? length(var.availability_zones) : 0

  vpc_id            = aws_vpc.app[0].id
  availability_zone = var.availability_zones[count.index]
  cidr_block        = cidrsubnet(var.vpc_cidr_block, 8, count.index)

  tags = {
    Name = "${var.name}-app-${var.availability_zones[count.index]}"
  }
}

locals {
  vpc_id     = var.vpc_id != null ? var.vpc_id : aws_vpc.app[0].id
  subnet_ids = var.vpc_id != null ? var.subnet_ids : aws_subnet.app[*].id
}

# The application hosts' security group (their instances, tasks or pods use it).
resource "aws_security_group" "app" {
  name_prefix = "${var.name}-app-"
  description = "Application hosts that connect to PlanetScale"
  vpc_id      = local.vpc_id
}

# The application hosts may send PostgreSQL (5432) and PSBouncer (6432)
# traffic to the endpoint: hashicorp/aws removes a new group's default
# allow-all egress rule, so without these the hosts could not connect.
resource "aws_vpc_security_group_egress_rule" "app_to_db" {
  for_each = toset(["5432", "6432"])

  security_group_id            = aws_security_group.app.id
  referenced_security_group_id = planetscale_privatelink_security_group.db.id
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.value)
  to_port                      = tonumber(each.value)
}

# Lets PostgreSQL (5432) and PSBouncer (6432) in to the endpoint from the
# application hosts, and nothing else.
resource "planetscale_privatelink_security_group" "db" {
  vpc_id                     = local.vpc_id
  name_prefix                = "${var.name}-endpoint-"
  allowed_security_group_ids = [aws_security_group.app.id]

  tags = {
    Name = "${var.name}-endpoint"
  }
}

# The endpoint to the branch, with private DNS on, waited for until available.
resource "planetscale_privatelink_endpoint" "db" {
  service_name       = var.service_name
  vpc_id             = local.vpc_id
  subnet_ids         = local.subnet_ids
  security_group_ids = [planetscale_privatelink_security_group.db.id]

  tags = {
    Name = "${var.name}-endpoint"
  }
}

# Where Terraform runs, open a connection to the database through the endpoint,
# as the application's driver would begin one (TLS verified; no credentials
# sent). From a pipeline runner inside the VPC this proves the application's
# own path; from elsewhere, or while the database is unreachable, apply still
# succeeds and ends with warnings that say what to fix.
data "planetscale_privatelink_connection_test" "db" {
  host     = coalesce(var.private_host, planetscale_privatelink_endpoint.db.dns_entries[0].dns_name)
  vpc_id   = local.vpc_id
  resolver = var.resolver

  # Once the endpoint is there (read during the apply that creates it).
  depends_on = [planetscale_privatelink_endpoint.db]
}

# The data source sits outside the check block: one nested inside would be
# read again during every apply, so no plan would ever be empty.
check "database_connection" {
  assert {
    condition = data.planetscale_privatelink_connection_test.db.ok
    error_message = join("\n", [
      for r in data.planetscale_privatelink_connection_test.db.results :
      "${coalesce(r.address, "-")}:${r.port}: ${r.error}" if r.error != null
    ])
  }
}

# When analysis_source names an application host (its network interface or
# instance), AWS Reachability Analyzer checks the whole path from it to the
# endpoint: security groups, network ACLs and routes. A finding of no path is
# a warning listing what blocks it. A new analysis runs when the groups let in
# or the endpoint's subnets change; AWS bills each analysis.
resource "planetscale_privatelink_reachability_analysis" "db" {
  count = var.analysis_source == null ? 0 : 1

  source      = var.analysis_source
  endpoint_id = planetscale_privatelink_endpoint.db.id

  triggers = {
    allowed = join(",", planetscale_privatelink_security_group.db.allowed_security_group_ids)
    subnets = join(",", planetscale_privatelink_endpoint.db.subnet_ids)
  }
}
