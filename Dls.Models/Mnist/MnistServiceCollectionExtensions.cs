using Dls.Models.Checkpoints;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Dls.Models.Mnist;

/// <summary>Options of the MNIST services registered by <see cref="MnistServiceCollectionExtensions.AddDlsMnistModels"/>.</summary>
public sealed class MnistModelOptions
{
    /// <summary>
    /// The checkpoint the <see cref="MnistClassifier"/> singleton loads (a <see cref="MnistMlp"/> or <see cref="LowRankMlp"/>).
    /// Null passes validation (no MNIST model ships with the library; a host may register the services without using
    /// them) and makes resolving the classifier throw an <see cref="InvalidOperationException"/> naming this option. A relative path is resolved against the process's current directory when the options are validated and the model
    /// is loaded — not against a host's content root; a service started from another directory should give an absolute path
    /// (e.g. combined with <c>IHostEnvironment.ContentRootPath</c>). Messages name the absolute path looked up.
    /// </summary>
    public string? CheckpointPath { get; set; }
}

/// <summary>
/// Checks <see cref="MnistModelOptions"/>; messages name the bad field. A checkpoint must exist and its sidecar must name an
/// MNIST architecture (the weights are read only when the classifier is first resolved).
/// </summary>
internal sealed class MnistModelOptionsValidator : IValidateOptions<MnistModelOptions>
{
    public ValidateOptionsResult Validate(string? name, MnistModelOptions options)
    {
        if (options.CheckpointPath is { } path)
        {
            if (string.IsNullOrWhiteSpace(path))
                return ValidateOptionsResult.Fail($"{nameof(MnistModelOptions)}.{nameof(MnistModelOptions.CheckpointPath)} must be null or a path, got '{path}'.");
            string what = $"{nameof(MnistModelOptions)}.{nameof(MnistModelOptions.CheckpointPath)}";
            if (!File.Exists(path))
                return ValidateOptionsResult.Fail($"{what}: checkpoint '{Path.GetFullPath(path)}' does not exist.");
            // Read the sidecar now, so that a missing sidecar or another model fails at start, naming the file, rather than at first use.
            string[] architectures = [MnistMlp.ArchitectureName, LowRankMlp.ArchitectureName];
            try
            {
                var info = Checkpoint.ReadInfo(path);
                if (info.Architecture is null || !architectures.Contains(info.Architecture))
                    return ValidateOptionsResult.Fail(
                        $"{what}: checkpoint '{path}' holds architecture '{info.Architecture ?? "(none)"}'; a {nameof(MnistClassifier)} needs one of [{string.Join(", ", architectures)}].");
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                return ValidateOptionsResult.Fail($"{what}: {e.Message}");
            }
        }
        return ValidateOptionsResult.Success;
    }
}

/// <summary>DI registration of the MNIST models.</summary>
public static class MnistServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="MnistModelOptions"/> (validated on start) and a lazily created, container-disposed
    /// <see cref="MnistClassifier"/> singleton loaded from <see cref="MnistModelOptions.CheckpointPath"/>. The MNIST
    /// architectures are always known to <see cref="Checkpoints.ModelArchitectures"/>. Calling it again registers nothing
    /// twice (only <paramref name="configure"/> is added).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options; may be null.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddDlsMnistModels(this IServiceCollection services, Action<MnistModelOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<MnistModelOptions>().ValidateOnStart();
        if (configure is not null)
            services.Configure(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MnistModelOptions>, MnistModelOptionsValidator>());
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<MnistModelOptions>>().Value;
            if (options.CheckpointPath is not { } path)
                throw new InvalidOperationException(
                    $"{nameof(MnistModelOptions)}.{nameof(MnistModelOptions.CheckpointPath)} is not set; configure it in AddDlsMnistModels to use {nameof(MnistClassifier)}.");
            return MnistClassifier.FromCheckpoint(path);
        });
        return services;
    }
}
