namespace Dls.Samples.Tests;

/// <summary>Tests that change process-wide torch state (threads, seeds) run one at a time.</summary>
[CollectionDefinition("TorchGlobalState", DisableParallelization = true)]
public sealed class TorchGlobalStateCollection
{
}
