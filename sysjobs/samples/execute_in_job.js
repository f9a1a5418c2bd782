var items = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
// predefined chunk size
sys.jobs.executeInJob(items, 'default', function(item) {
    sys.logs.info('Processing item: ' + item);
}, 2);
