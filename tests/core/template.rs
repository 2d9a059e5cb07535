//! template.yaml and config.rs name the same variables (cfn-lint itself runs in scripts/test.sh).

use apigw_doctor::lambda::config::VARIABLES;

use crate::repo_path;

#[test]
fn the_template_sets_exactly_the_variables_config_reads() {
    let template = std::fs::read_to_string(repo_path("template.yaml")).unwrap();
    let start = template
        .find("        Variables:\n")
        .expect("Environment.Variables in template.yaml");
    let set: Vec<&str> = template[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("          "))
        .filter_map(|l| l.trim().split_once(':').map(|(k, _)| k))
        .collect();
    let mut expected: Vec<&str> = VARIABLES.to_vec();
    let mut got = set.clone();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected);
}
