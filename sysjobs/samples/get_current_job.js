// logs the name of the job executing the script

var job = sys.jobs.getCurrentJob();
log('job id: ' + job.label());
