namespace Dls.Compression.Tests;

/// <summary>
/// Tests that touch torch's process-wide state run one at a time: <c>WeightSvd.Of</c> briefly sets the intra-op
/// thread count to one while it runs the eigensolver.
/// </summary>
[CollectionDefinition("TorchGlobalState", DisableParallelization = true)]
public sealed class TorchGlobalStateCollection;
