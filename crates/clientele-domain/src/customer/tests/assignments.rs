//! The home dashboard.

use super::*;

#[test]
fn the_home_dashboard_must_be_assigned_to_the_customer() {
    let set = |assigned| CustomerCommand::SetHomeDashboard {
        dashboard: Some(DashboardFacts {
            id: "d1".into(),
            assigned,
        }),
        hide_toolbar: true,
    };
    let result = Given::with(())
        .given(vec![acme_created()])
        .when(set(false))
        .inspect_result();
    assert_eq!(
        rules(result),
        vec![("dashboardId".into(), Rule::NotAssigned)]
    );
    let home = CustomerEvent::HomeDashboardSet(HomeDashboardSet {
        dashboard_id: Some("d1".into()),
        hide_toolbar: true,
    });
    Given::with(())
        .given(vec![acme_created()])
        .when(set(true))
        .then_expect_events(vec![home.clone()]);
    Given::with(())
        .given(vec![acme_created(), home])
        .when(set(true))
        .then_expect_events(vec![]);
}
