namespace Dls.Models.Tests;

/// <summary>Tests that seed torch or change its thread count run one at a time.</summary>
[CollectionDefinition("TorchGlobalState", DisableParallelization = true)]
public sealed class TorchGlobalStateCollection;
