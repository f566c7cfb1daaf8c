// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";

/// @title Groth16 verifier (bn128, three public inputs) with its key in immutables.
/// @notice See IGroth16Verifier. The key lives in the code (immutables), not in storage: a verification reads
/// no storage, so it costs what snarkjs's generated verifier with constants costs, plus a few bytes of code.
/// @dev Checks e(-A, B) * e(alpha1, beta2) * e(vkX, gamma2) * e(C, delta2) == 1 with the 0x08 precompile,
/// where vkX = IC0 + sum input_i * IC_{i+1} (0x07 and 0x06).
contract Groth16Verifier is IGroth16Verifier {
    /// @notice The scalar field modulus r (public inputs must be below it).
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice The base field modulus q (proof coordinates must be below it).
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;

    uint256 private immutable _ALPHA_X;
    uint256 private immutable _ALPHA_Y;
    uint256 private immutable _BETA_X1;
    uint256 private immutable _BETA_X0;
    uint256 private immutable _BETA_Y1;
    uint256 private immutable _BETA_Y0;
    uint256 private immutable _GAMMA_X1;
    uint256 private immutable _GAMMA_X0;
    uint256 private immutable _GAMMA_Y1;
    uint256 private immutable _GAMMA_Y0;
    uint256 private immutable _DELTA_X1;
    uint256 private immutable _DELTA_X0;
    uint256 private immutable _DELTA_Y1;
    uint256 private immutable _DELTA_Y0;
    uint256 private immutable _IC0_X;
    uint256 private immutable _IC0_Y;
    uint256 private immutable _IC1_X;
    uint256 private immutable _IC1_Y;
    uint256 private immutable _IC2_X;
    uint256 private immutable _IC2_Y;
    uint256 private immutable _IC3_X;
    uint256 private immutable _IC3_Y;
    bytes32 private immutable _KEY_HASH;

    /// @param key The verification key, G2 coordinates swapped (lib/zk/prover.ts `verifierConstructorArgs`).
    constructor(VerificationKey memory key) {
        require(_validKey(key), Groth16VerifierInvalidKey());
        (_ALPHA_X, _ALPHA_Y) = (key.alpha1[0], key.alpha1[1]);
        (_BETA_X1, _BETA_X0, _BETA_Y1, _BETA_Y0) = (key.beta2[0][0], key.beta2[0][1], key.beta2[1][0], key.beta2[1][1]);
        (_GAMMA_X1, _GAMMA_X0) = (key.gamma2[0][0], key.gamma2[0][1]);
        (_GAMMA_Y1, _GAMMA_Y0) = (key.gamma2[1][0], key.gamma2[1][1]);
        (_DELTA_X1, _DELTA_X0) = (key.delta2[0][0], key.delta2[0][1]);
        (_DELTA_Y1, _DELTA_Y0) = (key.delta2[1][0], key.delta2[1][1]);
        (_IC0_X, _IC0_Y, _IC1_X, _IC1_Y) = (key.ic[0][0], key.ic[0][1], key.ic[1][0], key.ic[1][1]);
        (_IC2_X, _IC2_Y, _IC3_X, _IC3_Y) = (key.ic[2][0], key.ic[2][1], key.ic[3][0], key.ic[3][1]);
        _KEY_HASH = keccak256(abi.encode(key));
    }

    /// @inheritdoc IGroth16Verifier
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[3] calldata input
    ) external view returns (bool) {
        if (input[0] >= R || input[1] >= R || input[2] >= R) return false;
        if (a[0] >= Q || a[1] >= Q || c[0] >= Q || c[1] >= Q) return false;
        if (b[0][0] >= Q || b[0][1] >= Q || b[1][0] >= Q || b[1][1] >= Q) return false;
        (bool ok, uint256[2] memory vkX) = _publicPoint(input);
        if (!ok) return false;
        uint256[24] memory p;
        (p[0], p[1]) = (a[0], a[1] == 0 ? 0 : Q - a[1]);
        (p[2], p[3], p[4], p[5]) = (b[0][0], b[0][1], b[1][0], b[1][1]);
        (p[6], p[7], p[8], p[9], p[10], p[11]) = (_ALPHA_X, _ALPHA_Y, _BETA_X1, _BETA_X0, _BETA_Y1, _BETA_Y0);
        (p[12], p[13], p[14], p[15], p[16], p[17]) = (vkX[0], vkX[1], _GAMMA_X1, _GAMMA_X0, _GAMMA_Y1, _GAMMA_Y0);
        (p[18], p[19], p[20], p[21], p[22], p[23]) = (c[0], c[1], _DELTA_X1, _DELTA_X0, _DELTA_Y1, _DELTA_Y0);
        return _pairingIsOne(p);
    }

    /// @inheritdoc IGroth16Verifier
    function verificationKeyHash() external view returns (bytes32) {
        return _KEY_HASH;
    }

    /// @dev vkX = IC0 + input[0] * IC1 + input[1] * IC2 + input[2] * IC3; `ok` false when a precompile fails.
    function _publicPoint(uint256[3] calldata input) private view returns (bool ok, uint256[2] memory acc) {
        (acc[0], acc[1]) = (_IC0_X, _IC0_Y);
        ok = _mulAdd(acc, _IC1_X, _IC1_Y, input[0]);
        ok = ok && _mulAdd(acc, _IC2_X, _IC2_Y, input[1]);
        ok = ok && _mulAdd(acc, _IC3_X, _IC3_Y, input[2]);
    }

    /// @dev acc += s * (x, y) with the 0x07 (scalar multiplication) and 0x06 (addition) precompiles.
    function _mulAdd(uint256[2] memory acc, uint256 x, uint256 y, uint256 s) private view returns (bool ok) {
        uint256[4] memory buf;
        (buf[0], buf[1], buf[2]) = (x, y, s);
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x07, buf, 0x60, buf, 0x40)
            if ok {
                mstore(add(buf, 0x40), mload(acc))
                mstore(add(buf, 0x60), mload(add(acc, 0x20)))
                ok := staticcall(gas(), 0x06, buf, 0x80, acc, 0x40)
            }
        }
    }

    /// @dev True when the 0x08 precompile succeeds on the pairs in `p` and their product is one.
    function _pairingIsOne(uint256[24] memory p) private view returns (bool) {
        uint256[1] memory out;
        bool ok;
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x08, p, 0x300, out, 0x20)
        }
        return ok && out[0] == 1;
    }

    /// @dev The key's coordinates are below q, its G1 points on the curve (0x06 accepts them) and its G2
    /// points on the twist and in the subgroup (0x08 accepts them, paired with the point at infinity).
    function _validKey(VerificationKey memory key) private view returns (bool) {
        uint256[24] memory p;
        uint256[2][2][3] memory g2 = [key.beta2, key.gamma2, key.delta2];
        for (uint256 i = 0; i < 3; ++i) {
            for (uint256 j = 0; j < 4; ++j) {
                uint256 v = g2[i][j / 2][j % 2];
                if (v >= Q) return false;
                p[6 * i + 2 + j] = v;
            }
        }
        if (!_pairingIsOne(p)) return false;
        uint256[2] memory acc;
        if (!_mulAdd(acc, key.alpha1[0], key.alpha1[1], 1) || key.alpha1[0] >= Q || key.alpha1[1] >= Q) return false;
        for (uint256 i = 0; i < 4; ++i) {
            if (key.ic[i][0] >= Q || key.ic[i][1] >= Q || !_mulAdd(acc, key.ic[i][0], key.ic[i][1], 1)) return false;
        }
        return true;
    }
}
