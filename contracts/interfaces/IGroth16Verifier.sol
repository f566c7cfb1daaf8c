// SPDX-License-Identifier: UNLICENSED
pragma solidity ^0.8.28;

/// @title A Groth16 verifier on bn128 (alt_bn128, EIP-196/197) for exactly three public inputs.
/// @notice Decides whether a proof of the rating circuit ("rating-v1": public termsCommitment, totalsCommitment,
/// net) is valid under the verification key the consortium's phase-2 ceremony produced. The key is fixed at
/// deployment; a new key (a new ceremony, a new circuit version) is a new verifier contract.
/// @dev Encoding: G1 points are (x, y); G2 points are given with each coordinate's two field elements SWAPPED
/// against snarkjs's JSON ([x1, x0], [y1, y0], imaginary part first), which is the order of the 0x08 precompile
/// and of snarkjs's `exportSolidityCallData`. Trust assumptions: the verifier trusts its key, i.e. that at least
/// one participant of the ceremony destroyed its entropy; it checks nothing about what the public inputs mean.
interface IGroth16Verifier {
    /// @notice A verification key in the precompiles' order (G2 coordinates imaginary part first).
    /// @param alpha1 The G1 point alpha.
    /// @param beta2 The G2 point beta, [[x1, x0], [y1, y0]].
    /// @param gamma2 The G2 point gamma, [[x1, x0], [y1, y0]].
    /// @param delta2 The G2 point delta, [[x1, x0], [y1, y0]].
    /// @param ic The G1 points IC0..IC3: IC0 plus the sum of input_i * IC_{i+1} stands for the public inputs.
    struct VerificationKey {
        uint256[2] alpha1;
        uint256[2][2] beta2;
        uint256[2][2] gamma2;
        uint256[2][2] delta2;
        uint256[2][4] ic;
    }

    /// @notice The constructor's key has a coordinate >= the base field modulus or a point off the curve (or, for
    /// G2, outside the prime-order subgroup): no proof could ever verify against it.
    error Groth16VerifierInvalidKey();

    /// @notice True when `a`, `b`, `c` is a valid proof for the public `input` under this verifier's key.
    /// @dev Returns false, never reverts, for a public input >= the scalar field modulus r, a proof coordinate >=
    /// the base field modulus q, a point off the curve (a failing precompile) or a failed pairing check.
    /// `b` is in the swapped order: [[x1, x0], [y1, y0]].
    /// @param a The proof's G1 point A.
    /// @param b The proof's G2 point B, swapped.
    /// @param c The proof's G1 point C.
    /// @param input The public inputs in the circuit's order (rating-v1: termsCommitment, totalsCommitment, net).
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[3] calldata input
    ) external view returns (bool);

    /// @notice keccak256 of the key's 22 words in the order of `VerificationKey` (= keccak256(abi.encode(key))):
    /// alpha1.x, alpha1.y, beta2 x1 x0 y1 y0, gamma2 x1 x0 y1 y0, delta2 x1 x0 y1 y0, IC0.x, IC0.y .. IC3.x,
    /// IC3.y. lib/zk/prover.ts `verificationKeyHash` computes the same from snarkjs's verification_key.json, so
    /// governance can check which key it approves.
    function verificationKeyHash() external view returns (bytes32);
}
