//! What Terraform is doing, read from the command line of the process that
//! started the plugin (Terraform itself), once, when a plan first asks.
//!
//! `terraform destroy` (and `plan -destroy`, `apply -destroy`) first plans
//! the configuration normally, to refresh the state, and gives up when that
//! plan has an error. The protocol does not tell a provider which plan it
//! is in, so a plan-time check failing for a resource that is only in the
//! configuration (a subnet of another VPC, say) would block the destroy of
//! everything else. Knowing that nothing will be created or updated, the
//! provider skips those checks in a destroy run.

/// Whether the parent process is `terraform destroy`, or a `plan` or
/// `apply` with `-destroy`. False wherever the parent's command line
/// cannot be read (Windows: see [`platform`](crate::platform)).
pub fn is_destroy_run() -> bool {
    crate::platform::parent_command_line().is_some_and(|args| is_destroy_command(&args))
}

/// Whether a terraform command line (program name first) destroys.
pub fn is_destroy_command(args: &[String]) -> bool {
    // Global options (-chdir=...) come before the subcommand.
    let mut rest = args.iter().skip(1).skip_while(|a| a.starts_with('-'));
    match rest.next().map(String::as_str) {
        Some("destroy") => true,
        Some("plan" | "apply") => rest.any(|a| {
            matches!(
                a.as_str(),
                "-destroy" | "--destroy" | "-destroy=true" | "--destroy=true"
            )
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str) -> bool {
        let args: Vec<String> = line.split(' ').map(str::to_owned).collect();
        is_destroy_command(&args)
    }

    #[test]
    fn destroy_runs_are_recognised() {
        assert!(check("terraform destroy -auto-approve"));
        assert!(check("terraform -chdir=infra destroy"));
        assert!(check("terraform plan -destroy -out=tfplan"));
        assert!(check(
            "/usr/local/bin/terraform apply -input=false -destroy"
        ));
        assert!(!check("terraform plan"));
        assert!(!check("terraform apply -auto-approve"));
        assert!(!check("terraform plan -destroy=false"));
        assert!(!check("terraform console"));
        assert!(!check("terraform"));
    }
}
