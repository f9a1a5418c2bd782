var job1 = sys.data.executeAction('companies', {}, 'logSomething', {param1: 'a', param2: 'b'});
var job2 = sys.data.executeAction('companies', {}, 'logSomething', {param1: 'a', param2: 'b'});

try {
  sys.jobs.waitForJobs([job1,job2], 'FINISHED', 60000);
  log('job finished!!!');
} catch (e) {
  if (sys.exceptions.getCode(e) == 'timeout') {
    log('timeout execution the job');
  }
}
