"""A sample Lambda handler used by `python -m deployer demo`."""

import json
import os


def handler(event, context):
    greeting = os.environ.get("GREETING", "hello")
    return {"statusCode": 200, "body": json.dumps({"message": f"{greeting} from lambda-deploy"})}
