// Global action: creates a company from its parameters and returns the new record's id.
var company = sys.data.createRecord('companies');
company.field('name').val(action.field('name').val());
company.field('type').val(action.field('type').val() || 'a');
company.field('state').val('active');
company = sys.data.save(company);
log('quickAdd created ' + company.label());
return company.id();
