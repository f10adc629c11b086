terraform {
  required_providers {
    planetscale = {
      source = "privatelink/planetscale"
    }
  }
}

# Credentials and region come from the standard AWS environment, as for the
# hashicorp/aws provider; the region must be the database branch's.
provider "planetscale" {
  region = "us-east-1"

  assume_role {
    role_arn = "arn:aws:iam::123456789012:role/privatelink"
  }

  default_tags {
    tags = {
      ManagedBy = "terraform"
    }
  }
}
