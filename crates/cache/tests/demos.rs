#[test]
fn every_demo_passes() {
    catalog::testing::run_topic_demos(&cache::topic());
}
