// Many-records action: runs once for the whole query and returns how many records match.
var total = sys.data.count('companies', query);
log('countByType: ' + total + ' companies');
return total;
