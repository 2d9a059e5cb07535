"""moto's server, with one difference from moto made to match AWS: HTTP and WebSocket API ids.

moto gives an API Gateway v2 API an id of 8 letters; AWS gives every API (REST, HTTP, WebSocket) 10 lower-case
letters and digits, and apigw-doctor reads an execution log group's API id only in AWS's shape
(`API-Gateway-Execution-Logs_{10 characters}/{stage}`). Everything else is moto's own server, unchanged.
"""

import random
import string
import sys

import moto.apigatewayv2.models as v2
from moto.server import main

_init = v2.Api.__init__


def _init_with_aws_id(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    old = self.api_id
    self.api_id = "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(10))
    self.api_endpoint = self.api_endpoint.replace(old, self.api_id)
    self.arn = self.arn.replace(old, self.api_id)


v2.Api.__init__ = _init_with_aws_id

if __name__ == "__main__":
    sys.exit(main())
