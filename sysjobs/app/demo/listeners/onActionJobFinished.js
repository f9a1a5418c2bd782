// Background job listener: runs after an EXECUTE_ACTION job finishes.
log('job ' + event.jobId + ' of type ' + event.jobType + ' ' + event.jobEvent);
