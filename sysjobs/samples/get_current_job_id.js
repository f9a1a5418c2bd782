// logs the ID of the job executing the script

var jobId = sys.jobs.getCurrentJobId();
log('job id: ' + jobId);
