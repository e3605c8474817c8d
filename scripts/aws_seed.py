#!/usr/bin/env python3
"""Seeds the lab's moto server with the AWS side of the lab, or changes it.

usage: aws_seed.py seed ENDPOINT AWS_ENV_FILE HTTP_A_PORT HTTP_B_PORT
       aws_seed.py failover ENDPOINT AWS_ENV_FILE   (PRIMARY of api.failover.test. -> 10.0.2.100)
       aws_seed.py metric ENDPOINT NAMESPACE NAME DIMENSION=VALUE[,...] VALUE [UNIT]
                                                    (one datapoint, timestamped now)
       aws_seed.py alarm-state ENDPOINT ALARM STATE [REASON]
                                                    (SetAlarmState: OK, ALARM, INSUFFICIENT_DATA)

What seed creates (us-east-1):
  Route 53   zone failover.test., api.failover.test. A: PRIMARY site-a 10.0.1.100 and SECONDARY
             site-b 10.0.2.100, TTL 60, each with an HTTP health check
  RDS        instance orders-a (postgres, Multi-AZ) and its read replica orders-b;
             Aurora cluster ledger with writer ledger-a (us-east-1a) and reader ledger-b (us-east-1b)
  CloudWatch AWS/RDS ReplicaLag{DBInstanceIdentifier=orders-b} 2 s,
             AWS/RDS AuroraReplicaLag{DBInstanceIdentifier=ledger-b} 20 ms,
             Lab/Canary SuccessPercent{CanaryName=checkout} 100 (each one datapoint, now);
             alarms lab-orders-site-a-5xx-rate, lab-orders-site-a-p99-latency and
             lab-orders-site-b-5xx-rate (names that share a long prefix), each set to OK

Uses fixed fake credentials ("testing"): moto accepts any, and nothing real is ever read.
"""
import datetime
import os
import sys

import boto3

ZONE = "failover.test."
NAME = "api.failover.test."


def client(endpoint, service="route53"):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def put_metric(endpoint, namespace, name, dimensions, value, unit="None"):
    """dimensions: "Name=Value[,Name=Value]"."""
    dims = []
    for pair in filter(None, dimensions.split(",")):
        k, _, v = pair.partition("=")
        dims.append({"Name": k, "Value": v})
    client(endpoint, "cloudwatch").put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": dims,
                "Value": float(value),
                "Unit": unit,
                "Timestamp": datetime.datetime.now(datetime.timezone.utc),
            }
        ],
    )


def seed_rds(endpoint):
    rds = client(endpoint, "rds")
    rds.create_db_instance(
        DBInstanceIdentifier="orders-a",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="lab",
        MasterUserPassword="lab-password",
        AllocatedStorage=20,
        MultiAZ=True,
        AvailabilityZone="us-east-1a",
    )
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="orders-b", SourceDBInstanceIdentifier="orders-a"
    )
    rds.create_db_cluster(
        DBClusterIdentifier="ledger",
        Engine="aurora-postgresql",
        MasterUsername="lab",
        MasterUserPassword="lab-password",
    )
    for name, az in (("ledger-a", "us-east-1a"), ("ledger-b", "us-east-1b")):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier="ledger",
            Engine="aurora-postgresql",
            DBInstanceClass="db.r6g.large",
            AvailabilityZone=az,
        )
    put_metric(endpoint, "AWS/RDS", "ReplicaLag", "DBInstanceIdentifier=orders-b", 2, "Seconds")
    put_metric(
        endpoint, "AWS/RDS", "AuroraReplicaLag", "DBInstanceIdentifier=ledger-b", 20, "Milliseconds"
    )
    put_metric(endpoint, "Lab/Canary", "SuccessPercent", "CanaryName=checkout", 100, "Percent")


def health_check(r53, ref, port):
    return r53.create_health_check(
        CallerReference=ref,
        HealthCheckConfig={
            "IPAddress": "127.0.0.1",
            "Port": int(port),
            "Type": "HTTP",
            "ResourcePath": "/healthz",
            "RequestInterval": 30,
            "FailureThreshold": 3,
        },
    )["HealthCheck"]["Id"]


def record(set_id, role, value, hc):
    return {
        "Action": "UPSERT",
        "ResourceRecordSet": {
            "Name": NAME,
            "Type": "A",
            "SetIdentifier": set_id,
            "Failover": role,
            "TTL": 60,
            "ResourceRecords": [{"Value": value}],
            "HealthCheckId": hc,
        },
    }


ALARMS = [
    "lab-orders-site-a-5xx-rate",
    "lab-orders-site-a-p99-latency",
    "lab-orders-site-b-5xx-rate",
]


def seed_alarms(endpoint):
    cw = client(endpoint, "cloudwatch")
    for name in ALARMS:
        cw.put_metric_alarm(
            AlarmName=name,
            Namespace="Lab/Orders",
            MetricName=name.rsplit("-", 2)[-2] + "-" + name.rsplit("-", 1)[-1],
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
        )
        set_alarm_state(endpoint, name, "OK", "lab: seeded OK")


def set_alarm_state(endpoint, name, state, reason="lab: set by hand"):
    client(endpoint, "cloudwatch").set_alarm_state(
        AlarmName=name, StateValue=state, StateReason=reason
    )


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            if k:
                env[k] = v
    return env


def seed(endpoint, env_file, port_a, port_b):
    r53 = client(endpoint)
    zone = r53.create_hosted_zone(Name=ZONE, CallerReference="lab-zone")["HostedZone"]["Id"]
    zone_id = zone.rsplit("/", 1)[-1]
    hc_a = health_check(r53, "lab-hc-a", port_a)
    hc_b = health_check(r53, "lab-hc-b", port_b)
    r53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                record("site-a", "PRIMARY", "10.0.1.100", hc_a),
                record("site-b", "SECONDARY", "10.0.2.100", hc_b),
            ]
        },
    )
    seed_rds(endpoint)
    seed_alarms(endpoint)
    tmp = env_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"LAB_R53_ZONE_ID={zone_id}\nLAB_R53_HC_A={hc_a}\nLAB_R53_HC_B={hc_b}\n")
    os.replace(tmp, env_file)


def failover(endpoint, env_file):
    env = read_env(env_file)
    r53 = client(endpoint)
    r53.change_resource_record_sets(
        HostedZoneId=env["LAB_R53_ZONE_ID"],
        ChangeBatch={"Changes": [record("site-a", "PRIMARY", "10.0.2.100", env["LAB_R53_HC_A"])]},
    )


def main(argv):
    if len(argv) == 6 and argv[1] == "seed":
        seed(*argv[2:])
    elif len(argv) == 4 and argv[1] == "failover":
        failover(*argv[2:])
    elif len(argv) in (7, 8) and argv[1] == "metric":
        put_metric(*argv[2:])
    elif len(argv) in (5, 6) and argv[1] == "alarm-state":
        set_alarm_state(*argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
