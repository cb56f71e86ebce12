namespace Dls.Speaker.Tests;

/// <summary>Tests that touch global torch state (seed, thread count) run one at a time.</summary>
[CollectionDefinition("TorchGlobalState", DisableParallelization = true)]
public sealed class TorchGlobalStateCollection;
