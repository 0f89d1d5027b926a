//! `zoho-oauth`: the command-line tool for Zoho OAuth tokens. The code is the `zoho_oauth_cli`
//! library (so that fuzz targets reach its parsers); this is its entry point.

fn main() -> std::process::ExitCode {
    zoho_oauth_cli::main()
}
