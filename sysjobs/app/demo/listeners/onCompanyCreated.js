// Background data listener: runs as an EXECUTE_LISTENER job after a company is created.
log('company created: ' + record.label() + ' (' + record.id() + ')');
