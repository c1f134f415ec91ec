#!/usr/bin/env bash
# LocalStack runs this once it is ready. Resources are not created here: they come from the
# services' serverless.yml through the same provisioner `npm start` uses, run from the host:
#   npm run start:localstack      (provision + serverless offline against http://localhost:4566)
# Keeping one provisioner means LocalStack and the embedded emulators can never drift apart.
echo "offload: LocalStack is ready; run 'npm run start:localstack' on the host to provision and serve"
