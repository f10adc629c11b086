# An analysis is imported by its network insights path's id; its latest
# analysis is read, none is run.
terraform import planetscale_privatelink_reachability_analysis.app_to_db nip-0123456789abcdef0
