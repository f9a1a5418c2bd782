// Endpoint script: answers GET /hello once the endpoint is deployed.
return {message: 'hello from ' + sys.data.count('companies', {}) + ' companies'};
