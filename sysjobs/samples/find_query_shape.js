var query = {};
query['status'] = 'FINISHED';
query['_size'] = 50;
