-- Which customers a dashboard is assigned to (`dashboardCustomers`, issue 19): the
-- dashboard's side of its assignments, one index range.
CREATE INDEX dashboard_assignments_by_dashboard ON dashboard_assignments (tenant_id, dashboard_id, customer_id);
