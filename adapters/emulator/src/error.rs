//! Errors of starting an emulator and of its control operations, each saying what to do.

use std::fmt;
use std::io;
use std::time::Duration;

use crate::region::DataCenter;

/// A control operation ([`Emulator::register_client`](crate::Emulator::register_client), a Self
/// Client code, …) was refused. The HTTP control API answers these with status 400 and
/// `{"error": <kind>, "message": <Display>}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlError {
    /// The data centre is not one this emulator serves.
    DataCenterNotEmulated {
        /// The data centre asked for.
        data_center: DataCenter,
    },
    /// No client with this id is registered at this data centre.
    UnknownClient {
        /// The client id asked for.
        client_id: String,
        /// Where it was looked up.
        data_center: DataCenter,
    },
    /// No user with this e-mail is registered.
    UnknownUser {
        /// The e-mail asked for.
        email: String,
    },
    /// The client was issued its limit of grant codes in the rolling window
    /// ([`Limits::grant_codes_per_window`](crate::Limits::grant_codes_per_window)), as Zoho refuses
    /// an 11th code in 10 minutes; its codes cannot be exchanged either until `retry_in` has passed.
    TooManyGrantCodes {
        /// The client id asked for.
        client_id: String,
        /// Where the code was asked for.
        data_center: DataCenter,
        /// How many codes the window allows.
        limit: u32,
        /// How long until the oldest code leaves the window, on the emulated clock.
        retry_in: Duration,
    },
    /// No device authorization has this user code.
    UnknownUserCode {
        /// The user code given.
        user_code: String,
    },
    /// The device authorization of this user code outlived
    /// [`Limits::device_code_lifetime`](crate::Limits::device_code_lifetime).
    UserCodeExpired {
        /// The user code given.
        user_code: String,
    },
    /// The device authorization of this user code was already approved or denied.
    DeviceAlreadyDecided {
        /// The user code given.
        user_code: String,
    },
    /// A field is empty or malformed.
    Invalid {
        /// The field, e.g. `client id`.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
}

impl ControlError {
    /// A short machine-readable name, used as `error` in the control API.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            ControlError::DataCenterNotEmulated { .. } => "data_center_not_emulated",
            ControlError::UnknownClient { .. } => "unknown_client",
            ControlError::UnknownUser { .. } => "unknown_user",
            ControlError::TooManyGrantCodes { .. } => "too_many_grant_codes",
            ControlError::UnknownUserCode { .. } => "unknown_user_code",
            ControlError::UserCodeExpired { .. } => "user_code_expired",
            ControlError::DeviceAlreadyDecided { .. } => "device_already_decided",
            ControlError::Invalid { .. } => "invalid",
        }
    }
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::DataCenterNotEmulated { data_center } => write!(
                f,
                "this emulator does not serve data centre `{data_center}`: add it to Config::data_centers (or --dc) before starting"
            ),
            ControlError::UnknownClient {
                client_id,
                data_center,
            } => write!(
                f,
                "no client `{client_id}` is registered at data centre `{data_center}`: register it first (Emulator::register_client or POST /_emulator/clients)"
            ),
            ControlError::UnknownUser { email } => write!(
                f,
                "no user `{email}` is registered: register it first (Emulator::register_user or POST /_emulator/users)"
            ),
            ControlError::TooManyGrantCodes {
                client_id,
                data_center,
                limit,
                retry_in,
            } => write!(
                f,
                "client `{client_id}` already has {limit} grant codes from data centre `{data_center}` in the window, Zoho's limit, \
                 so no code is issued and none of its codes is exchanged for now: advance the emulated clock by {} ms \
                 (Emulator::advance_clock or POST /_emulator/clock/advance), or raise Limits::grant_codes_per_window",
                retry_in.as_millis()
            ),
            ControlError::UnknownUserCode { user_code } => write!(
                f,
                "no device authorization has the user code `{user_code}`: use the user_code of a POST /oauth/v3/device/code answer"
            ),
            ControlError::UserCodeExpired { user_code } => write!(
                f,
                "the user code `{user_code}` has expired: the device must ask for a new one (POST /oauth/v3/device/code)"
            ),
            ControlError::DeviceAlreadyDecided { user_code } => write!(
                f,
                "the user code `{user_code}` was already approved or denied: the device must ask for a new one to be decided again"
            ),
            ControlError::Invalid { field, problem } => write!(f, "invalid {field}: {problem}"),
        }
    }
}

impl std::error::Error for ControlError {}

/// [`Emulator::start`](crate::Emulator::start) failed; nothing is left running.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// `Config::data_centers` is empty.
    NoDataCenter,
    /// A data centre appears twice in `Config::data_centers`.
    DuplicateDataCenter(DataCenter),
    /// `port + number of data centres` does not fit in a port number.
    PortOutOfRange {
        /// The first port asked for.
        port: u16,
        /// How many consecutive ports were needed.
        count: usize,
    },
    /// A client, user or consent of the configuration was refused.
    Config(ControlError),
    /// A loopback port could not be bound.
    Bind {
        /// The data centre the port was for.
        data_center: DataCenter,
        /// The port asked for (0: any).
        port: u16,
        /// Why.
        source: io::Error,
    },
    /// The async runtime or its thread could not be created.
    Runtime(io::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::NoDataCenter => f.write_str(
                "no data centre to emulate: put at least one in Config::data_centers (e.g. DataCenter::Us)",
            ),
            StartError::DuplicateDataCenter(dc) => write!(
                f,
                "data centre `{dc}` is listed twice in Config::data_centers: list each once"
            ),
            StartError::PortOutOfRange { port, count } => write!(
                f,
                "{count} consecutive ports from {port} go past 65535: choose a lower port or none"
            ),
            StartError::Config(e) => write!(f, "the configuration was refused: {e}"),
            StartError::Bind {
                data_center,
                port,
                source,
            } => write!(
                f,
                "could not listen on 127.0.0.1:{port} for data centre `{data_center}` ({source}): choose another port, or none to let the OS pick"
            ),
            StartError::Runtime(e) => write!(
                f,
                "could not start the emulator's runtime thread ({e}): the process may be out of threads or file descriptors"
            ),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Config(e) => Some(e),
            StartError::Bind { source, .. } | StartError::Runtime(source) => Some(source),
            _ => None,
        }
    }
}

impl From<ControlError> for StartError {
    fn from(e: ControlError) -> Self {
        StartError::Config(e)
    }
}
