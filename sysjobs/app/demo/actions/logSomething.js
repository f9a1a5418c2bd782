// One-record action: logs its parameters and returns a response for the job's results.
var p1 = action.field('param1').val();
var p2 = action.field('param2').val();
log('logSomething on ' + record.label() + ': param1=' + p1 + ', param2=' + p2);
return 'logged ' + record.label() + ' with ' + p1 + '/' + p2;
