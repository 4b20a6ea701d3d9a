import { PlatformContext, AfterBuildInfoSaveRequest, AfterBuildInfoSaveResponse } from './types';

// AFTER_BUILD_INFO_SAVE: tags each artifact the build lists with a "path" ("<repo>/<path>") with the properties
// build.name and build.number, through the storage API, so that AQL finds a build's files and
// DELETE /artifactory/api/build/<name>/<number>?artifacts=1 removes them with it. Artifacts without a path, or whose
// file is gone, are counted as skipped. Its run token needs "annotate" where the files are (hook.json).
export default async (context: PlatformContext, data: AfterBuildInfoSaveRequest): Promise<AfterBuildInfoSaveResponse> => {
  const { name, number } = data.build;
  const escape = (text: string) => text.replace(/[\\,|=;]/g, (c) => '\\' + c);
  const properties = encodeURIComponent(`build.name=${escape(name)};build.number=${escape(number)}`);
  let tagged = 0;
  let skipped = 0;
  for (const module of data.build.modules ?? []) {
    for (const artifact of module.artifacts ?? []) {
      if (!artifact.path) {
        skipped++;
        continue;
      }
      const path = artifact.path.split('/').map(encodeURIComponent).join('/');
      try {
        await context.clients.platformHttp.put(`/artifactory/api/storage/${path}?properties=${properties}`);
        tagged++;
      } catch (error) {
        console.warn(`could not tag ${artifact.path}: ${error.status ?? ''} ${error.message}`);
        skipped++;
      }
    }
  }
  return { message: `${name} #${number}: tagged ${tagged} artifact(s), skipped ${skipped}` };
};
