# Builds the example API of docs/live-account.md on moto (see scripts/live-account-demo.sh); prints its id.
import boto3, io, zipfile, json, os, time
ep=os.environ["MOTO_ENDPOINT"]
kw=dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
iam=boto3.client("iam",**kw); lam=boto3.client("lambda",**kw); apigw=boto3.client("apigateway",**kw); logs=boto3.client("logs",**kw)
role=iam.create_role(RoleName="demo-role",AssumeRolePolicyDocument=json.dumps({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}))["Role"]["Arn"]
buf=io.BytesIO(); z=zipfile.ZipFile(buf,"w"); z.writestr("index.py","def handler(e,c): return {}"); z.close()
def fn(name, timeout=3):
    return lam.create_function(FunctionName=name,Runtime="python3.12",Role=role,Handler="index.handler",Code={"ZipFile":buf.getvalue()},Timeout=timeout)["FunctionArn"]
orders=fn("orders-api", 60); health=fn("health-api")
api=apigw.create_rest_api(name="shop")["id"]
root=[r for r in apigw.get_resources(restApiId=api)["items"] if r["path"]=="/"][0]["id"]
def route(parent, part, method, arn):
    rid=apigw.create_resource(restApiId=api,parentId=parent,pathPart=part)["id"]
    apigw.put_method(restApiId=api,resourceId=rid,httpMethod=method,authorizationType="NONE")
    apigw.put_integration(restApiId=api,resourceId=rid,httpMethod=method,type="AWS_PROXY",integrationHttpMethod="POST",uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations")
    return rid
o=route(root,"orders","POST",orders); route(root,"health","GET",health)
apigw.create_deployment(restApiId=api,stageName="prod")
lam.add_permission(FunctionName="health-api",StatementId="api",Action="lambda:InvokeFunction",Principal="apigateway.amazonaws.com",SourceArn=f"arn:aws:execute-api:us-east-1:123456789012:{api}/*/GET/health")
apigw.update_stage(restApiId=api,stageName="prod",patchOperations=[{"op":"replace","path":"/*/*/logging/loglevel","value":"ERROR"}])
g=f"API-Gateway-Execution-Logs_{api}/prod"
logs.create_log_group(logGroupName=g); logs.create_log_stream(logGroupName=g,logStreamName="s1")
now=int(time.time()*1000)
rid="7c2a1f3e-5b8d-4e0a-9f61-2d4c8b7a1e05"; ok="0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a"
lines=[(rid,"Starting execution for request: "+rid),(rid,"HTTP Method: POST, Resource Path: /orders"),(rid,f"Sending request to https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/{orders}/invocations"),(rid,"Execution failed due to configuration error: Invalid permissions on Lambda function"),(rid,"Method completed with status: 500"),
       (ok,"Starting execution for request: "+ok),(ok,"HTTP Method: GET, Resource Path: /health"),(ok,"Method completed with status: 200")]
logs.put_log_events(logGroupName=g,logStreamName="s1",logEvents=[{"timestamp":now-60000+i,"message":f"({r}) {m}"} for i,(r,m) in enumerate(lines)])
print(api)
