-- AlterTable
ALTER TABLE "BacktestCase" ADD COLUMN     "deterministicCost" DOUBLE PRECISION;
