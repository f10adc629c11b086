#!/usr/bin/env python3
"""Play PlanetScale's side in the local EC2 emulator.

PlanetScale publishes each database branch as a VPC endpoint service (the
"Private Service Name" of the dashboard). In the emulator there is none, so
this creates one: a VPC of its own, a network load balancer, and an endpoint
service behind it, optionally with a private DNS name. It prints the service
name on stdout.

    scripts/emulator-service.py --endpoint http://127.0.0.1:5000 \
        [--private-dns-name branch.private.example.com] [--acceptance-required]
    scripts/emulator-service.py --endpoint ... --delete com.amazonaws.vpce....

Only ever run it against a local emulator: it talks to --endpoint alone.
"""

import argparse
import sys

import boto3


def clients(endpoint, region):
    session = boto3.session.Session(
        aws_access_key_id="AKIATESTINGPLANETSCALE",
        aws_secret_access_key="testing",
        region_name=region,
    )
    return (
        session.client("ec2", endpoint_url=endpoint),
        session.client("elbv2", endpoint_url=endpoint),
    )


def create(ec2, elbv2, private_dns_name, acceptance_required):
    vpc = ec2.create_vpc(CidrBlock="10.250.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.250.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(["us-east-1a", "us-east-1b", "us-east-1c"])
    ]
    lb = elbv2.create_load_balancer(Name=f"psdb-{vpc[-8:]}", Subnets=subnets, Type="network", Scheme="internal")
    arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    args = {"NetworkLoadBalancerArns": [arn], "AcceptanceRequired": acceptance_required}
    if private_dns_name:
        args["PrivateDnsName"] = private_dns_name
    service = ec2.create_vpc_endpoint_service_configuration(**args)["ServiceConfiguration"]
    return service["ServiceName"]


def delete(ec2, service_name):
    configs = ec2.describe_vpc_endpoint_service_configurations()["ServiceConfigurations"]
    ids = [c["ServiceId"] for c in configs if c["ServiceName"] == service_name]
    if ids:
        ec2.delete_vpc_endpoint_service_configurations(ServiceIds=ids)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", required=True, help="emulator URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--private-dns-name")
    parser.add_argument("--acceptance-required", action="store_true")
    parser.add_argument("--delete", metavar="SERVICE_NAME")
    args = parser.parse_args()
    if not args.endpoint.startswith(("http://127.", "http://localhost")):
        sys.exit("refusing to talk to anything but a loopback emulator")
    ec2, elbv2 = clients(args.endpoint, args.region)
    if args.delete:
        delete(ec2, args.delete)
    else:
        print(create(ec2, elbv2, args.private_dns_name, args.acceptance_required))


if __name__ == "__main__":
    main()
