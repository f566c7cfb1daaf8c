// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

import {PlmnId} from "./PlmnId.sol";
import {PolicyId} from "./PolicyId.sol";

/// @notice Radio access technology class of a device.
enum DeviceClass {
    NbIot,
    LteM,
    Cat1Plus,
    Nr5g
}

/// @notice Lifecycle of a device. `None` is the default of an unknown id.
enum DeviceStatus {
    None,
    Active,
    Suspended,
    FraudFlagged
}

/// @notice A service a visited network may serve. Signalling (attach, location updates) is always
/// allowed and limited only by the policy's event caps.
enum Service {
    Data,
    Sms,
    Voice,
    Signalling
}

/// @notice How the device's data is routed when roaming.
enum Routing {
    HomeRouted,
    LocalBreakout
}

/// @notice Why a visited network may not serve a device (`None` when it may). `ClassNotPriced`: the agreement
/// in force has no rate plan of the visited network for the device's tariff class (its usage would be rated
/// at 0: F10).
enum DenyReason {
    None,
    UnknownDevice,
    DeviceSuspended,
    DeviceFraudFlagged,
    PolicyNotYetValid,
    PolicyExpired,
    ServiceNotAllowed,
    NetworkNotAllowed,
    NoAgreement,
    ClassNotPriced
}

/// @notice A device policy: what its home carrier allows and needs when it roams. Immutable once
/// defined; a device moves to another definition by a policy update (a new version).
/// @param owner Home carrier that defined it; only its devices may use it.
/// @param services Bitmask of allowed services: bit `1 << uint8(Service.X)`. Signalling is implied.
/// @param tariffClass The class the roaming agreement prices this device by.
/// @param routing Home-routed (IPX tunnel to home) or local breakout.
/// @param missionCritical Never steer this device away under congestion.
/// @param maxVisitedDays Days in one visited network before it counts as a permanent roamer (0: no limit).
/// @param validFrom Policy applies from this time.
/// @param validUntil Policy applies until this time, exclusive (0: open-ended).
/// @param maxLatencyMs Latency the device needs at most (0: no requirement).
/// @param minThroughputKbps Throughput the device needs at least (0: no requirement).
/// @param dailyBytesCap Bytes (up + down) per day (0: no cap).
/// @param monthlyBytesCap Bytes per calendar month (0: no cap).
/// @param dailyEventsCap Signalling events per day (0: no cap).
/// @param monthlyEventsCap Signalling events per month (0: no cap).
/// @param allowedNetworks Visited networks allowed (empty: any network with a roaming agreement).
struct Policy {
    PlmnId owner;
    uint8 services;
    uint8 tariffClass;
    Routing routing;
    bool missionCritical;
    uint16 maxVisitedDays;
    uint40 validFrom;
    uint40 validUntil;
    uint32 maxLatencyMs;
    uint32 minThroughputKbps;
    uint64 dailyBytesCap;
    uint64 monthlyBytesCap;
    uint32 dailyEventsCap;
    uint32 monthlyEventsCap;
    PlmnId[] allowedNetworks;
}

/// @notice A registered device, packed in one storage slot.
/// @param home Home carrier (owner of the IMSI).
/// @param maker Device maker member, zero if none.
/// @param deviceClass Radio access technology class.
/// @param status Active, suspended or fraud-flagged.
/// @param policyVersion Current policy version, from 1 up.
/// @param policyId Policy definition of the current version.
/// @param policySince When the current version started to apply.
/// @param registeredAt Registration time.
struct Device {
    PlmnId home;
    PlmnId maker;
    DeviceClass deviceClass;
    DeviceStatus status;
    uint32 policyVersion;
    PolicyId policyId;
    uint40 policySince;
    uint40 registeredAt;
}

/// @notice The answer a visited network gets for a device, a service and its own network, now.
/// @param serve May the service be served.
/// @param reason Why not, when `serve` is false.
/// @param steerable May the device be steered away under congestion (not mission-critical).
/// @param homeRouted Must the data session be home-routed.
/// @param tariffClass The agreement's tariff class for this device.
/// @param policyVersion The policy version the answer is based on.
struct Decision {
    bool serve;
    DenyReason reason;
    bool steerable;
    bool homeRouted;
    uint8 tariffClass;
    uint32 policyVersion;
}
