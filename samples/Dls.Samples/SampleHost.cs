using System.Text.Json.Nodes;
using Dls.Samples.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dls.Samples;

/// <summary>The running host: the plugins, their container, output, logging and progress.</summary>
internal sealed class SampleHost : ISampleHost, IDisposable
{
    private readonly Lazy<ServiceProvider> _services;

    public SampleHost(IReadOnlyList<ISamplePlugin> plugins, TextWriter output, TextWriter error, bool verbose)
    {
        Plugins = plugins;
        Out = output;
        // Logs and plain progress reach the error writer from whichever thread reports them; a caller's StringWriter
        // is not safe for that, so every writer of this host goes through one synchronized wrapper.
        error = TextWriter.Synchronized(error);
        Error = error;
        LoggerFactory = Microsoft.Extensions.Logging.LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information);
            // Logs go to the error writer so that the output writer carries only results (and the JSON line last).
            builder.AddProvider(new TextWriterLoggerProvider(error));
            builder.AddFilter("Microsoft", LogLevel.Warning);
        });
        ProgressReporter = new ConsoleProgressReporter(error, TimeSpan.FromSeconds(5));
        _services = new Lazy<ServiceProvider>(() =>
        {
            var services = new ServiceCollection();
            services.AddSingleton(LoggerFactory);
            services.AddLogging();
            foreach (ISamplePlugin plugin in Plugins)
            {
                plugin.ConfigureServices(services);
            }

            ServiceProvider provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
            try
            {
                // What a Generic Host does when it starts: options registered with ValidateOnStart (the Dls AddDls…
                // extensions do) are checked now, before any command uses a service, not at their first resolve.
                provider.GetService<IAsyncStartupValidator>()?.ValidateAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            catch
            {
                provider.Dispose();
                throw;
            }

            return provider;
        });
    }

    public IReadOnlyList<ISamplePlugin> Plugins { get; }

    public IServiceProvider Services => _services.Value;

    public ConsoleProgressReporter ProgressReporter { get; }

    public IProgressReporter Progress => ProgressReporter;

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    public ILoggerFactory LoggerFactory { get; }

    public void WriteJsonResult(JsonObject result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Out.WriteLine(result.ToJsonString());
        Out.Flush();
    }

    public IEnumerable<(ISamplePlugin Plugin, SampleTask Task)> AllTasks()
        => Plugins.SelectMany(p => p.Tasks.Select(t => (p, t)));

    public void Dispose()
    {
        if (_services.IsValueCreated)
        {
            _services.Value.Dispose();
        }

        LoggerFactory.Dispose();
    }
}
