using System.Reflection;
using System.Runtime.Loader;
using Dls.Samples.Abstractions;

namespace Dls.Samples;

/// <summary>Finds the plugins: every public <see cref="ISamplePlugin"/> in the <c>Dls.Samples.*.dll</c> files next to the host.</summary>
internal static class PluginLoader
{
    public static IReadOnlyList<ISamplePlugin> Load(string directory)
    {
        var plugins = new List<ISamplePlugin>();
        string self = typeof(PluginLoader).Assembly.GetName().Name!;
        string contract = typeof(ISamplePlugin).Assembly.GetName().Name!;
        foreach (string file in Directory.EnumerateFiles(directory, "Dls.Samples.*.dll").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            if (name == self || name == contract || name.EndsWith(".Tests", StringComparison.Ordinal))
            {
                continue;
            }

            Assembly assembly = AssemblyLoadContext.Default.Assemblies.FirstOrDefault(a => a.GetName().Name == name)
                ?? AssemblyLoadContext.Default.LoadFromAssemblyPath(file);
            foreach (Type type in assembly.GetExportedTypes())
            {
                if (type is { IsClass: true, IsAbstract: false } && typeof(ISamplePlugin).IsAssignableFrom(type))
                {
                    plugins.Add((ISamplePlugin)(Activator.CreateInstance(type)
                        ?? throw new InvalidOperationException($"Plugin type {type.FullName} could not be created.")));
                }
            }
        }

        var duplicate = plugins.GroupBy(p => p.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two plugins are named '{duplicate.Key}': {string.Join(", ", duplicate.Select(p => p.GetType().FullName))}.");
        }

        return plugins;
    }
}
