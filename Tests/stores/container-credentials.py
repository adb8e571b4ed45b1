"""A stand-in for the container credentials endpoint of ECS task roles and
EKS Pod Identity, for the tests of the credential chain: it answers
GET /creds/LIFETIME carrying `Authorization: TOKEN` with the keys given
here, in the JSON the AWS SDKs read, their Expiration LIFETIME seconds from
now ("none": no Expiration). Another token gets 401. GET /creds/LIFETIME/once
answers the same the first time and 503 after, as an endpoint that went
away. One line a request goes to LOG: the path, and "token-ok" or
"token-refused".

usage: container-credentials.py PORT TOKEN KEY SECRET SESSION_TOKEN LOG
"""
import datetime
import http.server
import json
import sys
import threading

port, token, key, secret, session, log_path = sys.argv[1:7]
port = int(port)
log_lock = threading.Lock()
answered = set()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        accepted = self.headers.get("Authorization") == token
        with log_lock, open(log_path, "a") as log:
            log.write(f"{self.path} {'token-ok' if accepted else 'token-refused'}\n")
        segments = self.path.split("/")
        lifetime = segments[2]
        if not accepted:
            return self.answer(401, {"message": "bad token"})
        if segments[-1] == "once" and self.path in answered:
            return self.answer(503, {"message": "gone"})
        answered.add(self.path)
        document = {"AccessKeyId": key, "SecretAccessKey": secret, "Token": session}
        if lifetime != "none":
            expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=int(lifetime))
            document["Expiration"] = expiration.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.answer(200, document)

    def answer(self, status, document):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
