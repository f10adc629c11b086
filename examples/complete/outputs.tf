output "endpoint_id" {
  description = "The VPC endpoint's id."
  value       = planetscale_privatelink_endpoint.db.id
}

output "endpoint_state" {
  description = "The endpoint's state: available once the connection is ready."
  value       = planetscale_privatelink_endpoint.db.state
}

output "endpoint_dns_names" {
  description = "The endpoint's own DNS names."
  value       = [for entry in planetscale_privatelink_endpoint.db.dns_entries : entry.dns_name]
}

output "connection_host" {
  description = "The host for the application's connection string: the branch's Private Host, which resolves to the endpoint inside the VPC."
  value       = coalesce(var.private_host, planetscale_privatelink_endpoint.db.dns_entries[0].dns_name)
}

output "application_security_group_id" {
  description = "Give the application hosts this security group."
  value       = aws_security_group.app.id
}

output "reachability" {
  description = "Reachability Analyzer's verdict on the path from analysis_source to the endpoint (null without analysis_source)."
  value = one([
    for a in planetscale_privatelink_reachability_analysis.db : {
      path_found   = a.path_found
      explanations = [for e in a.explanations : e.detail]
    }
  ])
}
