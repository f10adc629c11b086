variable "region" {
  description = "AWS region of the application VPC and of the PlanetScale database branch."
  type        = string
  default     = "us-east-1"
}

variable "service_name" {
  description = "The branch's Private Service Name, from the PlanetScale dashboard (database, Settings, Roles)."
  type        = string
}

variable "private_host" {
  description = "The branch's Private Host, from the same dashboard page. The connection host output falls back to the endpoint's DNS name without it."
  type        = string
  default     = null
}

variable "resolver" {
  description = "A DNS server for the connection test to ask for the Private Host, such as the VPC's resolver (its CIDR base + 2, reachable from inside the VPC). This machine's resolver when null."
  type        = string
  default     = null
}

variable "analysis_source" {
  description = "An application host's network interface (eni-...) or instance (i-...) id. When set, AWS Reachability Analyzer analyses the path from it to the endpoint on 5432 (billed by AWS per analysis)."
  type        = string
  default     = null
}

variable "name" {
  description = "Prefix of the names of everything created."
  type        = string
  default     = "planetscale"
}

variable "vpc_id" {
  description = "An existing VPC to use instead of creating one (with subnet_ids)."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Existing subnets for the endpoint, one per availability zone, when vpc_id is set."
  type        = list(string)
  default     = []
}

variable "vpc_cidr_block" {
  description = "CIDR block of the VPC created when vpc_id is not set."
  type        = string
  default     = "10.0.0.0/16"
}

variable "availability_zones" {
  description = "Zones of the subnets created when vpc_id is not set; two or more are recommended."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b"]
}
