//! The `restql` command line.
//!
//! ```text
//! restql parse [--vars JSON] [FILE]    canonical JSON on stdout, exit 0;
//!                                      {"error": {...}} on stdout and exit 1 for a bad query
//! restql explain --mappings M [--format text|json] [--vars JSON] [FILE]
//!                                      the plan; errors as for parse
//! ```
//! Usage and I/O problems exit 2 with a message on stderr.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use restql::Errors;

const USAGE: &str = "\
usage: restql <command> [options] [FILE]

commands:
  parse [--vars JSON] [FILE]   parse and validate a query (FILE or stdin); print its canonical JSON
  explain --mappings M [--format text|json] [--vars JSON] [FILE]
                               print the plan: waves, dependencies, multiplexing, calls and
                               dedupe groups (JSON by default)

options:
  --vars JSON   run-time variables (a JSON object) used where validation needs them
  --mappings M  a JSON or YAML file mapping resources to URL templates (http://host/p/:id?:q)
  --format F    text or json (explain)
  -h, --help    show this help
  -V, --version show the version";

/// A failure that is not about the query: bad arguments, unreadable input.
struct UsageError(String);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(UsageError(message)) => {
            eprintln!("restql: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<ExitCode, UsageError> {
    let Some((command, rest)) = args.split_first() else {
        return Err(UsageError("no command given".into()));
    };
    match command.as_str() {
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        "-V" | "--version" => {
            println!("restql {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        "parse" => parse_command(&Options::from_args(rest, &["--vars"])?),
        "explain" => explain_command(&Options::from_args(
            rest,
            &["--vars", "--mappings", "--format"],
        )?),
        other => Err(UsageError(format!("unknown command '{other}'"))),
    }
}

/// `--flag value` pairs (only the flags a command accepts) and at most one positional FILE.
struct Options {
    flags: Vec<(String, String)>,
    file: Option<String>,
}

impl Options {
    fn from_args(args: &[String], accepted: &[&str]) -> Result<Options, UsageError> {
        let mut flags = Vec::new();
        let mut file = None;
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if let Some((name, value)) = arg.split_once('=').filter(|(n, _)| n.starts_with("--")) {
                if !accepted.contains(&name) {
                    return Err(UsageError(format!("unknown option '{name}'")));
                }
                flags.push((name.to_string(), value.to_string()));
            } else if arg.starts_with("--") {
                if !accepted.contains(&arg.as_str()) {
                    return Err(UsageError(format!("unknown option '{arg}'")));
                }
                let value = iter
                    .next()
                    .ok_or_else(|| UsageError(format!("option '{arg}' needs a value")))?;
                flags.push((arg.clone(), value.clone()));
            } else if file.replace(arg.clone()).is_some() {
                return Err(UsageError("more than one FILE given".into()));
            }
        }
        Ok(Options { flags, file })
    }

    /// The last value given for `name`.
    fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The query text: FILE, or stdin when FILE is absent or `-`.
    fn read_query(&self) -> Result<String, UsageError> {
        match self.file.as_deref() {
            Some(path) if path != "-" => std::fs::read_to_string(path)
                .map_err(|e| UsageError(format!("cannot read '{path}': {e}"))),
            _ => {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| UsageError(format!("cannot read stdin: {e}")))?;
                Ok(text)
            }
        }
    }

    /// `--vars`: a JSON object.
    fn variables(&self) -> Result<Option<serde_json::Map<String, serde_json::Value>>, UsageError> {
        let Some(text) = self.flag("--vars") else {
            return Ok(None);
        };
        match serde_json::from_str(text) {
            Ok(serde_json::Value::Object(map)) => Ok(Some(map)),
            Ok(_) => Err(UsageError("--vars must be a JSON object".into())),
            Err(e) => Err(UsageError(format!("--vars is not valid JSON: {e}"))),
        }
    }
}

fn parse_command(options: &Options) -> Result<ExitCode, UsageError> {
    let text = options.read_query()?;
    let variables = options.variables()?;
    let checked = restql::check(&text).and_then(|query| {
        if let Some(vars) = &variables {
            restql::validate::validate_variables(&query, &text, vars)?;
        }
        Ok(query)
    });
    match checked {
        Ok(query) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&query).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => Ok(report(&errors)),
    }
}

fn explain_command(options: &Options) -> Result<ExitCode, UsageError> {
    let Some(path) = options.flag("--mappings") else {
        return Err(UsageError("explain needs --mappings FILE".into()));
    };
    let text_format = match options.flag("--format").unwrap_or("json") {
        "text" => true,
        "json" => false,
        other => {
            return Err(UsageError(format!(
                "unknown format '{other}' (text or json)"
            )));
        }
    };
    // Read the query first: a caller writing it to stdin never meets a closed pipe.
    let text = options.read_query()?;
    let mappings_text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read '{path}': {e}")))?;
    let mappings = restql::Mappings::from_text(&mappings_text)
        .map_err(|e| UsageError(format!("{path}: {e}")))?;
    let inputs = restql::Inputs {
        variables: options.variables()?.unwrap_or_default(),
        headers: Vec::new(),
    };
    match restql::explain(&text, &mappings, &inputs, &restql::Options::default()) {
        Ok(plan) if text_format => {
            print!("{}", plan["text"].as_str().unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        Ok(plan) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&plan).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => Ok(report(&errors)),
    }
}

/// `{"error": first, "errors": [all]}` on stdout; the rendered snippets on stderr when it is a
/// terminal, where a person reads them.
fn report(errors: &Errors) -> ExitCode {
    println!(
        "{}",
        serde_json::to_string_pretty(errors).unwrap_or_default()
    );
    if std::io::stderr().is_terminal() {
        for e in errors.iter() {
            eprintln!("{}\n", e.render());
        }
    }
    ExitCode::from(1)
}
