# An interface endpoint to a database branch's Private Service Name, in two
# availability zones, with private DNS on (the default).
resource "planetscale_privatelink_endpoint" "db" {
  service_name       = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
  vpc_id             = "vpc-0123456789abcdef0"
  subnet_ids         = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  security_group_ids = [planetscale_privatelink_security_group.db.id]

  tags = {
    Name = "planetscale-privatelink"
  }

  timeouts {
    create = "20m"
  }
}

resource "planetscale_privatelink_security_group" "db" {
  vpc_id                     = "vpc-0123456789abcdef0"
  allowed_security_group_ids = ["sg-0123456789abcdef0"]
}
