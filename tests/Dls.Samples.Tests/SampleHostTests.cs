using System.CommandLine;
using Dls.Samples.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dls.Samples.Tests;

public sealed class SampleHostTests
{
    [Fact]
    public void Services_OptionsFailingValidateOnStart_ThrowOnFirstUseNamingTheOption()
    {
        using var host = new SampleHost([new PluginWithBadOptions()], TextWriter.Null, TextWriter.Null, verbose: false);

        // Nothing resolves StrictOptions here: only a start-time validation (what a Generic Host runs) can report it.
        var e = Assert.Throws<OptionsValidationException>(() => host.Services);

        Assert.Contains("Level: expected 1 to 10, found 0.", e.Message);
    }

    [Fact]
    public void Services_ValidOptions_BuildTheContainer()
    {
        using var host = new SampleHost([new PluginWithBadOptions { Level = 5 }], TextWriter.Null, TextWriter.Null, verbose: false);

        Assert.Equal(5, host.Services.GetRequiredService<IOptions<StrictOptions>>().Value.Level);
    }

    [Fact]
    public void Services_NoOptionsValidatedOnStart_BuildTheContainerAroundTheHostsLoggerFactory()
    {
        // No ValidateOnStart anywhere: the container has no start-up validator to run, and still builds.
        using var host = new SampleHost([new PluginWithoutOptions()], TextWriter.Null, TextWriter.Null, verbose: false);

        Assert.Null(host.Services.GetService<IAsyncStartupValidator>());
        Assert.Same(host.LoggerFactory, host.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>());
        Assert.Equal("registered by the plugin", host.Services.GetRequiredService<string>());
    }

    [Fact]
    public void UserMessage_ArgumentExceptions_LoseTheParameterNameDotNetAppends()
    {
        Assert.Equal("The dynamic range must be positive.",
            DlsSamplesApp.UserMessage(new ArgumentOutOfRangeException("dynamicRangeDb", -10.0, "The dynamic range must be positive.")));
        Assert.Equal("Expected finite scores.", DlsSamplesApp.UserMessage(new ArgumentException("Expected finite scores.", "trials")));
        Assert.Equal("Plain failure.", DlsSamplesApp.UserMessage(new InvalidOperationException("Plain failure.")));
    }

    public sealed class StrictOptions
    {
        public int Level { get; set; }
    }

    private sealed class PluginWithoutOptions : ISamplePlugin
    {
        public string Name => "plain";

        public string Description => "registers one service and no options";

        public IReadOnlyList<SampleTask> Tasks => [];

        public IReadOnlyList<BenchmarkArea> Benchmarks => [];

        public void ConfigureServices(IServiceCollection services) => services.AddSingleton("registered by the plugin");

        public IEnumerable<Command> CreateCommands(ISampleHost host) => [];
    }

    private sealed class PluginWithBadOptions : ISamplePlugin
    {
        public int Level { get; init; }

        public string Name => "strict";

        public string Description => "registers options validated on start";

        public IReadOnlyList<SampleTask> Tasks => [];

        public IReadOnlyList<BenchmarkArea> Benchmarks => [];

        public void ConfigureServices(IServiceCollection services) =>
            services.AddOptions<StrictOptions>()
                .Configure(o => o.Level = Level)
                .Validate(o => o.Level is >= 1 and <= 10, $"Level: expected 1 to 10, found {Level}.")
                .ValidateOnStart();

        public IEnumerable<Command> CreateCommands(ISampleHost host) => [];
    }
}
